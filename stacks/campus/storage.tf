# Storage: readings by device and ISO-8601 time, expiring after var.ttl_days; the raw
# archive tiers to Intelligent-Tiering and expires after a year.

resource "aws_dynamodb_table" "readings" {
  name         = "${local.prefix}-readings"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "device_id"
  range_key    = "ts"

  attribute {
    name = "device_id"
    type = "S"
  }
  attribute {
    name = "ts"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.env == "prod"
  }
}

resource "aws_s3_bucket" "archive" {
  bucket        = "${local.prefix}-archive-${local.account}"
  force_destroy = var.env != "prod"
}

resource "aws_s3_bucket_versioning" "archive" {
  bucket = aws_s3_bucket.archive.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id

  rule {
    id     = "raw-tiering"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    transition {
      days          = 0
      storage_class = "INTELLIGENT_TIERING"
    }
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}
