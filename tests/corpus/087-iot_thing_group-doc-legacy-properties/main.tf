resource "aws_iot_thing_group" "group" {
  name = "thing_group"

  properties {
    description = "test description"
    attributes = {
        "attr1": "val1",
        "attr2": "val2",
    }
    merge = false 
  }
}
