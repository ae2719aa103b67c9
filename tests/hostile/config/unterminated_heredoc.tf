# expect: Invalid HCL syntax
# at: main.tf:5
resource "aws_sns_topic" "t" {
  name = <<EOT
alerts
}
