# The campus sensor stack: sensor nodes publish readings over MQTT; IoT rules route them
# to a Rust ingest Lambda (DynamoDB, 90-day TTL), an S3 archive, and SNS heat alerts;
# CloudWatch watches for silence and Lambda errors.

terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      project    = "campus-sensors"
      env        = var.env
      managed_by = "thingform"
    }
  }
}

data "aws_caller_identity" "me" {}
data "aws_region" "here" {}
data "aws_iot_endpoint" "data" {
  endpoint_type = "iot:Data-ATS"
}

locals {
  prefix     = "${var.env}-campus"
  rule_infix = replace(local.prefix, "-", "_")
  account    = data.aws_caller_identity.me.account_id
  region     = data.aws_region.here.name
  iot_arn    = "arn:aws:iot:${local.region}:${local.account}"
}
