# MongoDB: a replica set of var.mongodb_members members run by the MongoDB Community
# Operator (a Helm chart), instead of the one-member StatefulSet of deploy/k8s/base/mongo.yaml,
# which app.tf leaves out of what it applies. Real MongoDB 7.0, so the services' multi-document
# transactions (the outbox) behave as in compose and the tests; each service has its own user
# with readWrite on its own database only.
#
# The members are named mongo-0, mongo-1, ... (the resource is named `mongo`) and carry the
# label app.kubernetes.io/name=mongo, so the NetworkPolicy `mongo` of the manifests admits
# the services (and the members) to them as it did the StatefulSet.

locals {
  mongodb_name = "mongo"
  mongodb_hosts = join(",", [
    for i in range(var.mongodb_members) :
    "${local.mongodb_name}-${i}.${local.mongodb_name}-svc.${local.namespace}.svc.cluster.local:27017"
  ])
  store_urls = {
    for s in local.services : s =>
    "mongodb://tizza-${s}:${random_password.mongodb[s].result}@${local.mongodb_hosts}/tizza_${s}?replicaSet=${local.mongodb_name}&authSource=admin"
  }
}

resource "random_password" "mongodb" {
  for_each = toset(local.services)
  length   = 32
  special  = false # it goes into STORE_URL unescaped
}

resource "kubernetes_secret_v1" "mongodb_user" {
  for_each = toset(local.services)
  metadata {
    name      = "mongo-${each.value}-password"
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "tizza" }
  }
  data = {
    password = random_password.mongodb[each.value].result
  }

  depends_on = [kustomization_resource.namespace]
}

resource "helm_release" "mongodb_operator" {
  name             = "community-operator"
  repository       = "https://mongodb.github.io/helm-charts"
  chart            = "community-operator"
  version          = "0.11.0"
  namespace        = "mongodb-operator"
  create_namespace = true

  values = [yamlencode({
    operator = { watchNamespace = local.namespace }
    # the members' service account and role, in the namespace of the replica set
    database = { namespace = local.namespace }
  })]

  depends_on = [kustomization_resource.namespace]
}

resource "kustomization_resource" "mongodb" {
  manifest = jsonencode({
    apiVersion = "mongodbcommunity.mongodb.com/v1"
    kind       = "MongoDBCommunity"
    metadata = {
      name      = local.mongodb_name
      namespace = local.namespace
      labels    = { "app.kubernetes.io/part-of" = "tizza" }
    }
    spec = {
      type    = "ReplicaSet"
      members = var.mongodb_members
      version = var.mongodb_version
      security = {
        authentication = { modes = ["SCRAM"] }
      }
      users = [for s in local.services : {
        name                       = "tizza-${s}"
        db                         = "admin"
        passwordSecretRef          = { name = kubernetes_secret_v1.mongodb_user[s].metadata[0].name }
        roles                      = [{ name = "readWrite", db = "tizza_${s}" }]
        scramCredentialsSecretName = "mongo-${s}"
      }]
      # a transaction left open by a killed replica holds its documents for this long
      # (deploy/README.md, "Scale"; docker-compose.yml sets the same)
      additionalMongodConfig = {
        setParameter = { transactionLifetimeLimitSeconds = 5 }
      }
      statefulSet = {
        spec = {
          template = {
            metadata = {
              labels = {
                "app.kubernetes.io/name"      = "mongo"
                "app.kubernetes.io/part-of"   = "tizza"
                "app.kubernetes.io/component" = "database"
              }
            }
            spec = {
              # one member per zone where the nodes allow it
              topologySpreadConstraints = [{
                maxSkew           = 1
                topologyKey       = "topology.kubernetes.io/zone"
                whenUnsatisfiable = "ScheduleAnyway"
                labelSelector     = { matchLabels = { "app.kubernetes.io/name" = "mongo" } }
              }]
            }
          }
          volumeClaimTemplates = [{
            metadata = { name = "data-volume" }
            spec = {
              storageClassName = kubernetes_storage_class_v1.gp3.metadata[0].name
              accessModes      = ["ReadWriteOnce"]
              resources        = { requests = { storage = var.mongodb_storage_size } }
            }
          }]
        }
      }
    }
  })

  depends_on = [helm_release.mongodb_operator, kubernetes_secret_v1.mongodb_user]
}
