
resource "aws_iot_thing_type" "foo" {
  name       = "tf_acc_iot_thing_type_8"
  deprecated = true

  properties {
    description           = "MyDescription"
    searchable_attributes = ["foo", "bar", "baz"]
  }

  tags = {
    testtag = "MyTagValue"
  }
}
