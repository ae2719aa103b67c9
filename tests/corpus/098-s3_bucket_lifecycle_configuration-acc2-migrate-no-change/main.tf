
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-098"
}

resource "aws_s3_bucket_lifecycle_configuration" "test" {
  bucket = aws_s3_bucket.test.bucket

  rule {
    id     = "id1"
    prefix = "path1/"
    status = "Enabled"

    expiration {
      expired_object_delete_marker = true
    }
  }
}
