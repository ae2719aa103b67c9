
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "managed" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "test" {
  name               = "tf-acc-test-121"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_policy" "test" {
  name   = "tf-acc-test-121"
  policy = data.aws_iam_policy_document.managed.json
}

resource "aws_iam_role_policy_attachment" "test" {
  role       = aws_iam_role.test.name
  policy_arn = aws_iam_policy.test.arn
}

resource "aws_iam_policy" "test2" {
  name   = "tf-acc-test-121-2"
  policy = data.aws_iam_policy_document.managed.json
}

resource "aws_iam_role_policy_attachment" "test2" {
  role       = aws_iam_role.test.name
  policy_arn = aws_iam_policy.test2.arn
}

resource "aws_iam_policy" "test3" {
  name   = "tf-acc-test-121-3"
  policy = data.aws_iam_policy_document.managed.json
}

resource "aws_iam_role_policy_attachment" "test3" {
  role       = aws_iam_role.test.name
  policy_arn = aws_iam_policy.test3.arn
}

resource "aws_iam_role_policy_attachments_exclusive" "test" {
  role_name = aws_iam_role.test.name
  policy_arns = [
    aws_iam_role_policy_attachment.test.policy_arn,
    aws_iam_role_policy_attachment.test2.policy_arn,
    aws_iam_role_policy_attachment.test3.policy_arn,
  ]
}
