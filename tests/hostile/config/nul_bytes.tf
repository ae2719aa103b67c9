# expect: Invalid HCL syntax
# at: main.tf:3
resource "aws_sns_topic" "t" { name = "a" } }
