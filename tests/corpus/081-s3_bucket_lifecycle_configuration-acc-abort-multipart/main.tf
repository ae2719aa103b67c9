
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-081"
  acl    = "private"

  lifecycle {
    ignore_changes = [
      lifecycle_rule
    ]
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    id     = "tf-acc-test-081"
    status = "Enabled"

    # One of prefix or filter required to ensure XML is well-formed
    filter {}
  }
}
