
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
  name               = "tf-acc-test-120"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_policy" "test" {
  name   = "tf-acc-test-120"
  policy = data.aws_iam_policy_document.managed.json
}

resource "aws_iam_role_policy_attachment" "test" {
  role       = aws_iam_role.test.name
  policy_arn = aws_iam_policy.test.arn
}

resource "aws_iam_role_policy_attachments_exclusive" "test" {
  role_name   = aws_iam_role.test.name
  policy_arns = [aws_iam_role_policy_attachment.test.policy_arn]
}
