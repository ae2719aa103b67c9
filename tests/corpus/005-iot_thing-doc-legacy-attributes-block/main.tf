resource "aws_iot_thing" "example" {
  name = "example"

  attributes {
    First = "examplevalue"
  }
}
