
resource "aws_iot_thing_group" "test" {
  name = "tf-acc-062-group"
}

resource "aws_iot_thing" "test" {
  name = "tf-acc-062-thing"
}

resource "aws_iot_thing_group_membership" "test" {
  thing_group_name = aws_iot_thing_group.test.name
  thing_name       = aws_iot_thing.test.name
}
