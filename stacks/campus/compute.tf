# The ingest Lambda, built from lambdas/ingest with cargo-lambda. thingform hashes the
# crate's source at plan time: an unchanged crate is a no-op, a changed one an
# UpdateFunctionCode.

resource "aws_lambda_function" "ingest" {
  function_name = "${local.prefix}-ingest"
  role          = aws_iam_role.ingest.arn
  memory_size   = 128
  timeout       = 10
  description   = "Validate, enrich and store campus readings"

  cargo_lambda {
    path = "${path.module}/../../lambdas/ingest"
    arch = "arm64"
  }

  environment {
    variables = {
      TABLE_NAME = aws_dynamodb_table.readings.name
      TTL_DAYS   = tostring(var.ttl_days)
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.ingest.name
  }

  depends_on = [aws_iam_role_policy.ingest]
}

resource "aws_lambda_permission" "ingest_rule" {
  statement_id   = "AllowIotIngestRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.ingest.function_name
  principal      = "iot.amazonaws.com"
  source_arn     = aws_iot_topic_rule.ingest.arn
  source_account = local.account
}

resource "aws_cloudwatch_log_group" "ingest" {
  name              = "/aws/lambda/${local.prefix}-ingest"
  retention_in_days = 30
}

resource "aws_iam_role" "ingest" {
  name = "${local.prefix}-ingest"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "ingest" {
  name = "ingest"
  role = aws_iam_role.ingest.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "WriteReadings", Effect = "Allow", Action = "dynamodb:PutItem", Resource = aws_dynamodb_table.readings.arn },
      { Sid = "Logs", Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.ingest.arn}:*" },
    ]
  })
}
