
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-095"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    id = "tf-acc-test-095"

    filter {
      prefix = "prefix/"
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    noncurrent_version_transition {
      noncurrent_days = 0
      storage_class   = "INTELLIGENT_TIERING"
    }

    transition {
      storage_class = "INTELLIGENT_TIERING"
    }

    status = "Enabled"
  }
}
