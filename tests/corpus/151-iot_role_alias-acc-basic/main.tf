
resource "aws_iam_role" "role" {
  name = "tf-acc-test-151"

  assume_role_policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {
      "Service": "credentials.iot.amazonaws.com"
    },
    "Action": "sts:AssumeRole"
  }
}
EOF

}

resource "aws_iot_role_alias" "ra" {
  alias    = "tf-acc-test-151"
  role_arn = aws_iam_role.role.arn
}
