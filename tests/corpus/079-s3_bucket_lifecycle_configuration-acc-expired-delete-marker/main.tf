
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-079"
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
    id     = "tf-acc-test-079"
    status = "Enabled"

    expiration {
      expired_object_delete_marker = true
    }

    # One of prefix or filter required to ensure XML is well-formed
    filter {}
  }
}
