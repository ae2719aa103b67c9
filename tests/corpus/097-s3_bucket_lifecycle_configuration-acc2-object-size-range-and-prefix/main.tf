
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-097"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    id = "tf-acc-test-097"

    expiration {
      date = "2023-01-01T00:00:00Z"
    }

    filter {
      and {
        object_size_greater_than = 500
        object_size_less_than    = 64000
        prefix                   = "tf-acc-test-097"
      }
    }

    status = "Enabled"
  }
}
