
resource "aws_iot_thing_type" "foo" {
  name       = "tf_acc_iot_thing_type_tf-acc-009"
  deprecated = false

  tags = {
    "key1" = "value1"
    "key2" = "value2"
  }
}
