# The public entry: ingress-nginx behind an AWS Network Load Balancer (the Ingress of
# deploy/k8s/base/ingress.yaml asks for ingressClassName nginx), cert-manager with a
# Let's Encrypt issuer for the TLS Secret that Ingress names (tizza-tls), and optionally the
# DNS record of the domain.
locals {
  ingress_class  = "nginx"
  cluster_issuer = "letsencrypt"
}

resource "helm_release" "ingress_nginx" {
  name             = "ingress-nginx"
  repository       = "https://kubernetes.github.io/ingress-nginx"
  chart            = "ingress-nginx"
  version          = "4.11.3"
  namespace        = "ingress-nginx"
  create_namespace = true

  values = [yamlencode({
    controller = {
      replicaCount = 2
      ingressClassResource = {
        name    = local.ingress_class
        default = false
      }
      service = {
        annotations = {
          "service.beta.kubernetes.io/aws-load-balancer-type"                              = "nlb"
          "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled" = "true"
        }
      }
      # TLS ends here and ingress-nginx sets X-Forwarded-Proto itself, which the gateway and
      # the services read (deploy/k8s/base/ingress.yaml); a client's own X-Forwarded-* is
      # not passed on (the NLB in front adds none)
      config = {
        use-forwarded-headers = "false"
      }
    }
  })]

  depends_on = [module.eks]
}

resource "helm_release" "cert_manager" {
  name             = "cert-manager"
  repository       = "https://charts.jetstack.io"
  chart            = "cert-manager"
  version          = "v1.16.1"
  namespace        = "cert-manager"
  create_namespace = true

  values = [yamlencode({
    crds = { enabled = true }
  })]

  depends_on = [module.eks]
}

resource "kustomization_resource" "cluster_issuer" {
  manifest = jsonencode({
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata   = { name = local.cluster_issuer }
    spec = {
      acme = {
        server              = "https://acme-v02.api.letsencrypt.org/directory"
        email               = var.acme_email
        privateKeySecretRef = { name = "${local.cluster_issuer}-account" }
        solvers             = [{ http01 = { ingress = { ingressClassName = local.ingress_class } } }]
      }
    }
  })

  depends_on = [helm_release.cert_manager]
}

data "kubernetes_service_v1" "ingress_nginx" {
  metadata {
    name      = "ingress-nginx-controller"
    namespace = helm_release.ingress_nginx.namespace
  }
}

locals {
  ingress_hostname = try(data.kubernetes_service_v1.ingress_nginx.status[0].load_balancer[0].ingress[0].hostname, "")
}

resource "aws_route53_record" "site" {
  count = var.route53_zone_id == "" ? 0 : 1

  zone_id = var.route53_zone_id
  name    = var.domain
  type    = "CNAME"
  ttl     = 300
  records = [local.ingress_hostname]
}
