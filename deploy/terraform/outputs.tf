# What the runbook (deploy/README.md, "Terraform") reads with `terraform output`.

output "region" {
  description = "AWS region of the cluster."
  value       = var.region
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "kubeconfig_command" {
  description = "Adds the cluster to ~/.kube/config (then kubectl -n tizza ... as in the runbook)."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}"
}

output "namespace" {
  description = "Namespace of Tizza's workloads."
  value       = local.namespace
}

output "ingress_hostname" {
  description = "Host name of the load balancer in front of the Ingress: the target of the domain's DNS record (CNAME)."
  value       = local.ingress_hostname
}

output "site_url" {
  description = "The site, once DNS points at ingress_hostname and the certificate is issued."
  value       = "https://${var.domain}"
}

output "images" {
  description = "The images the cluster runs."
  value       = [for i in local.images : "${var.image_registry}/${i}:${var.image_tag}"]
}

output "auth_kek_secret_arn" {
  description = "Secrets Manager secret holding AUTH_KEY_ENCRYPTION_KEY (needed to restore auth's database)."
  value       = aws_secretsmanager_secret.auth_kek.arn
}

output "mongodb_replica_set" {
  description = "Replica set name and members of MongoDB (the operator's)."
  value       = "${local.mongodb_name}/${local.mongodb_hosts}"
}
