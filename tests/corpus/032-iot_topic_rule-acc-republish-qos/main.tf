
data "aws_partition" "current" {}

resource "aws_iam_role" "test" {
  name = "tf_acc_test_032"

  assume_role_policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {
      "Service": "iot.${data.aws_partition.current.dns_suffix}"
    },
    "Action": "sts:AssumeRole"
  }]
}
EOF
}

resource "aws_iam_policy" "test" {
  name        = "tf_acc_test_032"
  path        = "/"
  description = "IoT Topic Rule test policy"

  policy = <<EOF
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": "*",
    "Resource": "*"
  }]
}
EOF
}

resource "aws_iam_policy_attachment" "test" {
  name       = "tf_acc_test_032"
  roles      = [aws_iam_role.test.name]
  policy_arn = aws_iam_policy.test.arn
}

resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_032"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"

  republish {
    role_arn = aws_iam_role.test.arn
    topic    = "mytopic"
    qos      = 1
  }
}
