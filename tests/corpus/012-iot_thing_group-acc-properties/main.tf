
resource "aws_iot_thing_group" "test" {
  name = "tf-acc-012"

  properties {
    attribute_payload {
      attributes = {
        Key1 = "Value1"
      }
    }

    description = "test description 1"
  }
}
