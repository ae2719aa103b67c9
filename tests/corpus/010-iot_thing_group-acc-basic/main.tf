
resource "aws_iot_thing_group" "test" {
  name = "tf-acc-010"
}
