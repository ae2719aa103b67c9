
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-078"
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
    id = "tf-acc-test-078"

    # One of prefix or filter required to ensure XML is well-formed
    prefix = "path1/"
    status = "Enabled"

    expiration {
      days = 365
    }
  }
}
