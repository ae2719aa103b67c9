
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-090"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    id     = "tf-acc-test-090-1"
    status = "Enabled"

    expiration {
      days = 365
    }
  }

  rule {
    id     = "tf-acc-test-090-2"
    status = "Enabled"

    expiration {
      expired_object_delete_marker = true
    }
  }
}
