
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-094"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    id     = "tf-acc-test-094"
    status = "Enabled"

    filter {
      prefix = "prefix/"
    }
  }
}
