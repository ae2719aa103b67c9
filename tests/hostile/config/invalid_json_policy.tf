# expect: policy
# at: main.tf:5
resource "aws_iot_policy" "p" {
  name   = "device"
  policy = "{\"Version\": \"2012-10-17\", \"Statement\": [ {\"Effect\": \"Allow\""
}
