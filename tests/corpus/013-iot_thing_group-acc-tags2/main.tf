
resource "aws_iot_thing_group" "test" {
  name = "tf-acc-013"

  tags = {
    "key1" = "value1"
    "key2" = "value2"
  }
}
