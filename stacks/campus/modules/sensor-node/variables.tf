variable "name" {
  type        = string
  description = "The Thing name (the device's MQTT client id)"
}

variable "thing_type_name" {
  type = string
}

variable "attributes" {
  type        = map(string)
  default     = {}
  description = "Searchable Thing attributes (building, location)"
}

variable "group_name" {
  type        = string
  description = "The fleet's thing group"
}

variable "policy_name" {
  type        = string
  description = "The IoT policy every device certificate gets"
}

variable "desired" {
  type        = any
  description = "The shadow's desired state"
}
