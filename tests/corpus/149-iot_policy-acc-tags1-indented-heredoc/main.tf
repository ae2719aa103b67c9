
resource "aws_iot_policy" "test" {
  name = "tf-acc-test-149"

  tags = {
    "key1" = "value1"
  }

  policy = <<EOF
  {
	"Version": "2012-10-17",
	"Statement": [
	  {
		"Effect": "Allow",
		"Action": [
		  "iot:*"
		],
		"Resource": [
		  "*"
		]
	  }
	]
  }
  EOF  
}
