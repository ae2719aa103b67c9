# expect: Invalid HCL syntax
# at: main.tf:
resource "aws_sns_topic" "t" {
  name = <<EOT
alerts
}
