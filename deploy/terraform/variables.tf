# Everything that differs between installations. terraform.tfvars.example shows a filled-in
# set; the runbook (deploy/README.md, "Terraform") describes each.

variable "region" {
  description = "AWS region of the VPC, the cluster and the secrets."
  type        = string
  default     = "eu-west-1"
}

variable "cluster_name" {
  description = "Name of the EKS cluster; also prefixes the VPC and the Secrets Manager secrets."
  type        = string
  default     = "tizza"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}$", var.cluster_name))
    error_message = "cluster_name: lowercase letters, digits and '-', 2 to 39 characters, starting with a letter."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (the manifests need 1.27 or newer)."
  type        = string
  default     = "1.31"
}

variable "vpc_cidr" {
  description = "CIDR of the new VPC; split into three private and three public subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group (the first that has capacity is used)."
  type        = list(string)
  default     = ["m6i.large", "m5.large"]
}

variable "node_min_size" {
  description = "Fewest nodes; three spreads the MongoDB members over three zones."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Most nodes."
  type        = number
  default     = 6
}

variable "node_desired_size" {
  description = "Nodes at creation (later changes are left to whoever scales the group)."
  type        = number
  default     = 3
}

variable "node_disk_size_gb" {
  description = "Root volume of each node, GiB (images and emptyDir volumes)."
  type        = number
  default     = 50
}

variable "image_registry" {
  description = "Registry that holds the five images as <registry>/tizza/<name>, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com."
  type        = string
}

variable "image_tag" {
  description = "Tag of the five images (make images with TIZZA_TAG, then push)."
  type        = string
}

variable "replicas" {
  description = "Replica bounds of each workload's HorizontalPodAutoscaler (the HPA owns the Deployment's replica count): one entry per service and the gateway."
  type = map(object({
    min = number
    max = number
  }))
  default = {
    auth    = { min = 2, max = 6 }
    pizza   = { min = 2, max = 10 }
    likes   = { min = 2, max = 10 }
    tweets  = { min = 2, max = 10 }
    gateway = { min = 2, max = 6 }
  }

  validation {
    condition     = alltrue([for k in ["auth", "pizza", "likes", "tweets", "gateway"] : contains(keys(var.replicas), k)])
    error_message = "replicas: needs an entry for each of auth, pizza, likes, tweets and gateway."
  }
  validation {
    condition     = alltrue([for r in values(var.replicas) : r.min >= 1 && r.min <= r.max])
    error_message = "replicas: each needs 1 <= min <= max."
  }
}

variable "domain" {
  description = "Public host name of the site (the Ingress host and its TLS certificate), e.g. tizza.example.com."
  type        = string
}

variable "acme_email" {
  description = "Contact address for the Let's Encrypt account that cert-manager registers for the site's certificate."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds the domain: when set, a CNAME from the domain to the load balancer is created; empty, you create the DNS record yourself (output ingress_hostname)."
  type        = string
  default     = ""
}

variable "mongodb_members" {
  description = "Members of the MongoDB replica set (an odd number; 3 survives the loss of one)."
  type        = number
  default     = 3

  validation {
    condition     = var.mongodb_members % 2 == 1
    error_message = "mongodb_members: an odd number (1, 3, 5, ...)."
  }
}

variable "mongodb_version" {
  description = "MongoDB server version the operator runs (the manifests and compose use 7.0)."
  type        = string
  default     = "7.0.14"
}

variable "mongodb_storage_size" {
  description = "Persistent volume of each MongoDB member (gp3)."
  type        = string
  default     = "50Gi"
}

variable "tags" {
  description = "Extra AWS tags for everything this creates."
  type        = map(string)
  default     = {}
}
