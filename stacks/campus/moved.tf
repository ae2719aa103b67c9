# Upgrading a deployment made before the devices moved into modules/sensor-node: every
# node's objects are tracked at their new addresses, nothing is recreated. One block per
# resource moves the whole fleet (`for_each` in a moved block is a thingform extension;
# Terraform needs one block per node). Safe to keep: a block with nothing to move is a no-op.

moved {
  for_each = var.nodes
  from     = aws_iot_thing.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_thing.this
}

moved {
  for_each = var.nodes
  from     = aws_iot_thing_group_membership.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_thing_group_membership.this
}

moved {
  for_each = var.nodes
  from     = aws_iot_certificate.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_certificate.this
}

moved {
  for_each = var.nodes
  from     = aws_iot_thing_principal_attachment.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_thing_principal_attachment.this
}

moved {
  for_each = var.nodes
  from     = aws_iot_policy_attachment.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_policy_attachment.this
}

moved {
  for_each = var.nodes
  from     = aws_iot_thing_shadow.node[each.key]
  to       = module.sensor_node[each.key].aws_iot_thing_shadow.this
}
