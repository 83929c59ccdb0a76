# The Secrets of deploy/k8s/secrets.example.yaml, with generated values:
#   tizza-secrets   AMQP_URL, <SERVICE>_STORE_URL of each service, AUTH_KEY_ENCRYPTION_KEY
#                   (auth generates its token signing key and keeps it in its database,
#                   encrypted with this key; AUTH_SIGNING_KEY stays unset);
#   tizza-rabbitmq  the broker's user and password.
# The key-encryption key is also kept in AWS Secrets Manager: a restore of auth's database
# needs it, so it must outlive the cluster (and is apart from the database backups).
# Every value is generated here and lives in the state (keep the state bucket private).

resource "random_id" "auth_kek" {
  byte_length = 32 # base64url without padding: what AUTH_KEY_ENCRYPTION_KEY takes
}

resource "random_password" "rabbitmq" {
  length  = 32
  special = false # it goes into AMQP_URL unescaped
}

resource "aws_secretsmanager_secret" "auth_kek" {
  name                    = "${var.cluster_name}/auth-key-encryption-key"
  description             = "AUTH_KEY_ENCRYPTION_KEY of Tizza's auth: decrypts the token signing key in auth's database."
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "auth_kek" {
  secret_id     = aws_secretsmanager_secret.auth_kek.id
  secret_string = random_id.auth_kek.b64_url
}

resource "kubernetes_secret_v1" "tizza_secrets" {
  metadata {
    name      = "tizza-secrets"
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "tizza" }
  }
  type = "Opaque"
  data = {
    AMQP_URL                = "amqp://${local.rabbitmq_user}:${random_password.rabbitmq.result}@rabbitmq:5672/%2f"
    AUTH_KEY_ENCRYPTION_KEY = random_id.auth_kek.b64_url
    AUTH_STORE_URL          = local.store_urls["auth"]
    PIZZA_STORE_URL         = local.store_urls["pizza"]
    LIKES_STORE_URL         = local.store_urls["likes"]
    TWEETS_STORE_URL        = local.store_urls["tweets"]
  }

  depends_on = [kustomization_resource.namespace]
}

resource "kubernetes_secret_v1" "tizza_rabbitmq" {
  metadata {
    name      = "tizza-rabbitmq"
    namespace = local.namespace
    labels    = { "app.kubernetes.io/part-of" = "tizza" }
  }
  type = "Opaque"
  data = {
    RABBITMQ_DEFAULT_USER = local.rabbitmq_user
    RABBITMQ_DEFAULT_PASS = random_password.rabbitmq.result
  }

  depends_on = [kustomization_resource.namespace]
}
