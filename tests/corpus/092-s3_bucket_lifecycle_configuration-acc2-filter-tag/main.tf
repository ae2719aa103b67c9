
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-092"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket
  rule {
    id     = "tf-acc-test-092"
    status = "Enabled"

    filter {
      tag {
        key   = "key1"
        value = "value1"
      }
    }

    expiration {
      days = 365
    }
  }
}
