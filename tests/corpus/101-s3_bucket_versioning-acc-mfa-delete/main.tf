
resource "aws_s3_bucket" "test" {
  bucket = "tf-acc-test-101"
}

resource "aws_s3_bucket_versioning" "test" {
  bucket = aws_s3_bucket.test.id
  versioning_configuration {
    mfa_delete = "Disabled"
    status     = "Enabled"
  }
}
