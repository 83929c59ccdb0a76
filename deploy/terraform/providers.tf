# AWS for the network, the cluster and Secrets Manager; the Kubernetes, Helm and kustomization
# providers reach the new cluster with a token from `aws eks get-token` (the caller's AWS
# credentials, nothing stored).
provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      "app.kubernetes.io/part-of" = "tizza"
      "tizza/cluster"             = var.cluster_name
    })
  }
}

locals {
  cluster_exec = {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--region", var.region, "--cluster-name", module.eks.cluster_name]
  }
  # The same as a kubeconfig, for the kustomization provider.
  kubeconfig = yamlencode({
    apiVersion      = "v1"
    kind            = "Config"
    current-context = "tizza"
    clusters = [{
      name = "tizza"
      cluster = {
        server                     = module.eks.cluster_endpoint
        certificate-authority-data = module.eks.cluster_certificate_authority_data
      }
    }]
    contexts = [{ name = "tizza", context = { cluster = "tizza", user = "tizza" } }]
    users = [{
      name = "tizza"
      user = {
        exec = {
          apiVersion = local.cluster_exec.api_version
          command    = local.cluster_exec.command
          args       = local.cluster_exec.args
        }
      }
    }]
  })
}

provider "kubernetes" {
  host                   = module.eks.cluster_endpoint
  cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
  exec {
    api_version = local.cluster_exec.api_version
    command     = local.cluster_exec.command
    args        = local.cluster_exec.args
  }
}

provider "helm" {
  kubernetes {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    exec {
      api_version = local.cluster_exec.api_version
      command     = local.cluster_exec.command
      args        = local.cluster_exec.args
    }
  }
}

provider "kustomization" {
  kubeconfig_raw = local.kubeconfig
}
