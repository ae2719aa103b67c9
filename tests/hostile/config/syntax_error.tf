# expect: Invalid HCL syntax
# at: main.tf:5
resource "aws_sns_topic" "t" {
  name = "alerts"
  display_name = = "twice"
}
