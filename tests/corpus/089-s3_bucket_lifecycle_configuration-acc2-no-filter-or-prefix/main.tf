
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-089"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket
  rule {
    id     = "tf-acc-test-089"
    status = "Enabled"

    expiration {
      days = 365
    }
  }
}
