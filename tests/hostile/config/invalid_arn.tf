# expect: invalid ARN
# at: main.tf:3
resource "aws_lambda_permission" "p" {
  statement_id  = "AllowIot"
  action        = "lambda:InvokeFunction"
  function_name = "ingest"
  principal     = "iot.amazonaws.com"
  source_arn    = "iot:rule/campus_ingest"
}
