
resource "aws_iot_thing" "test" {
  name = "tf-acc-006"

  attributes = {
    One    = "11111"
    Two    = "TwoTwo"
    Answer = "42"
  }

  thing_type_name = aws_iot_thing_type.test.name
}

resource "aws_iot_thing_type" "test" {
  name = "tf-acc-006-type"
}
