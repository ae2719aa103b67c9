
resource "aws_iot_thing_type" "foo" {
  name = "tf_acc_iot_thing_type_7"
}
