
data "aws_region" "current" {}

data "aws_partition" "current" {}

resource "aws_iot_topic_rule" "test" {
  name        = "tf_acc_test_030"
  enabled     = true
  sql         = "SELECT * FROM 'topic/test'"
  sql_version = "2015-10-08"

  lambda {
    function_arn = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:123456789012:function:ProcessKinesisRecords"
  }
}
