# Tizza itself: the kustomize overlay deploy/k8s/overlays/production, as `kubectl apply -k`
# would apply it, with what differs here:
#   images    <image_registry>/tizza/<name>:<image_tag> for the four services and the gateway;
#   replicas  each HorizontalPodAutoscaler's bounds from var.replicas;
#   Ingress   the host var.domain, its certificate from cert-manager (ingress.tf);
#   MongoDB   the base's one-member StatefulSet, its Service and its init Job left out: the
#             operator's replica set replaces them (mongodb.tf).
# The Secrets are secrets.tf's. Applied in three steps, as the kustomization provider
# recommends: the Namespace, then everything else, then admission webhooks (none today).

locals {
  namespace = "tizza"
  # the services (services/*/service.yaml) and their images and the gateway's; the static
  # checks compare these lists with docker-compose.yml and deploy/k8s
  services = ["auth", "pizza", "likes", "tweets"]
  images   = ["tizza/auth", "tizza/pizza", "tizza/likes", "tizza/tweets", "tizza/gateway"]

  rabbitmq_user = "tizza"

  replaced_by_operator = [
    { apiVersion = "apps/v1", kind = "StatefulSet", name = "mongo" },
    { apiVersion = "v1", kind = "Service", name = "mongo" },
    { apiVersion = "batch/v1", kind = "Job", name = "mongo-rs-init" },
  ]
}

data "kustomization_overlay" "tizza" {
  resources = ["${path.module}/../k8s/overlays/production"]
  namespace = local.namespace

  dynamic "images" {
    for_each = toset(local.images)
    content {
      name     = images.value
      new_name = "${var.image_registry}/${images.value}"
      new_tag  = var.image_tag
    }
  }

  dynamic "patches" {
    for_each = var.replicas
    content {
      target = {
        group   = "autoscaling"
        version = "v2"
        kind    = "HorizontalPodAutoscaler"
        name    = patches.key
      }
      patch = jsonencode([
        { op = "replace", path = "/spec/minReplicas", value = patches.value.min },
        { op = "replace", path = "/spec/maxReplicas", value = patches.value.max },
      ])
    }
  }

  patches {
    target = {
      group   = "networking.k8s.io"
      version = "v1"
      kind    = "Ingress"
      name    = "tizza"
    }
    patch = jsonencode([
      { op = "replace", path = "/spec/rules/0/host", value = var.domain },
      { op = "replace", path = "/spec/tls/0/hosts", value = [var.domain] },
      { op = "add", path = "/metadata/annotations", value = { "cert-manager.io/cluster-issuer" = local.cluster_issuer } },
    ])
  }

  dynamic "patches" {
    for_each = { for o in local.replaced_by_operator : "${o.kind}/${o.name}" => o }
    content {
      patch = yamlencode({
        "$patch"   = "delete"
        apiVersion = patches.value.apiVersion
        kind       = patches.value.kind
        metadata   = { name = patches.value.name, namespace = local.namespace }
      })
    }
  }
}

resource "kustomization_resource" "namespace" {
  for_each = data.kustomization_overlay.tizza.ids_prio[0]
  manifest = data.kustomization_overlay.tizza.manifests[each.value]

  depends_on = [module.eks]
}

resource "kustomization_resource" "app" {
  for_each = data.kustomization_overlay.tizza.ids_prio[1]
  manifest = data.kustomization_overlay.tizza.manifests[each.value]

  depends_on = [
    kustomization_resource.namespace,
    kubernetes_secret_v1.tizza_secrets,
    kubernetes_secret_v1.tizza_rabbitmq,
    kubernetes_storage_class_v1.gp3,
    kustomization_resource.mongodb,
    kustomization_resource.cluster_issuer,
    helm_release.ingress_nginx,
  ]
}

resource "kustomization_resource" "webhooks" {
  for_each = data.kustomization_overlay.tizza.ids_prio[2]
  manifest = data.kustomization_overlay.tizza.manifests[each.value]

  depends_on = [kustomization_resource.app]
}
