
resource "aws_iot_thing_group" "grandparent" {
  name = "tf-acc-011-grandparent"
}

resource "aws_iot_thing_group" "parent" {
  name = "tf-acc-011-parent"

  parent_group_name = aws_iot_thing_group.grandparent.name
}

resource "aws_iot_thing_group" "test" {
  name = "tf-acc-011"

  parent_group_name = aws_iot_thing_group.parent.name
}
