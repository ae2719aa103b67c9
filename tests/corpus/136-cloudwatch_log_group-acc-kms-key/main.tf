
resource "aws_kms_key" "test" {
  count = 2

  description             = "tf-acc-test-136-${count.index}"
  deletion_window_in_days = 7

  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Id": "kms-tf-1",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Action": "kms:*",
    "Resource": "*"
  }]
}
POLICY
}

resource "aws_cloudwatch_log_group" "test" {
  name       = "tf-acc-test-136"
  kms_key_id = aws_kms_key.test[0].arn
}
