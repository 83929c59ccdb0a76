# Remote state: an S3 bucket (versioned, encrypted) with a DynamoDB table for locking.
# Partial configuration: the bucket, key, region and table come from a file that is not
# committed, made from backend.hcl.example:
#   terraform init -backend-config=backend.hcl
terraform {
  backend "s3" {}
}
