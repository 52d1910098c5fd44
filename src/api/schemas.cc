#include "api/schemas.h"

#include <nlohmann/json.hpp>

namespace glimmer::api {
namespace {

using Json = nlohmann::ordered_json;

// ---- Documents as Glance serves them (glance/api/v2/*.py, etc/schema-image.json). ----
// kImageBase is the image schema without the schema-image.json properties, which follow in
// kImageCustomProperties (each marked "is_base": false, as Glance adds).

constexpr std::string_view kImageBase = R"json({
 "name": "image",
 "properties": {
  "id": {
   "type": "string",
   "description": "An identifier for the image",
   "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
  },
  "name": {
   "type": [
    "null",
    "string"
   ],
   "description": "Descriptive name for the image",
   "maxLength": 255
  },
  "status": {
   "type": "string",
   "readOnly": true,
   "description": "Status of the image",
   "enum": [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated"
   ]
  },
  "visibility": {
   "type": "string",
   "description": "Scope of image accessibility",
   "enum": [
    "community",
    "public",
    "private",
    "shared"
   ]
  },
  "protected": {
   "type": "boolean",
   "description": "If true, image will not be deletable."
  },
  "os_hidden": {
   "type": "boolean",
   "description": "If true, image will not appear in default image list response."
  },
  "checksum": {
   "type": [
    "null",
    "string"
   ],
   "readOnly": true,
   "description": "md5 hash of image contents.",
   "maxLength": 32
  },
  "os_hash_algo": {
   "type": [
    "null",
    "string"
   ],
   "readOnly": true,
   "description": "Algorithm to calculate the os_hash_value",
   "maxLength": 64
  },
  "os_hash_value": {
   "type": [
    "null",
    "string"
   ],
   "readOnly": true,
   "description": "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
   "maxLength": 128
  },
  "owner": {
   "type": [
    "null",
    "string"
   ],
   "description": "Owner of the image",
   "maxLength": 255
  },
  "size": {
   "type": [
    "null",
    "integer"
   ],
   "readOnly": true,
   "description": "Size of image file in bytes"
  },
  "virtual_size": {
   "type": [
    "null",
    "integer"
   ],
   "readOnly": true,
   "description": "Virtual size of image in bytes"
  },
  "container_format": {
   "type": [
    "null",
    "string"
   ],
   "description": "Format of the container",
   "enum": [
    null,
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed"
   ]
  },
  "disk_format": {
   "type": [
    "null",
    "string"
   ],
   "description": "Format of the disk",
   "enum": [
    null,
    "ami",
    "ari",
    "aki",
    "vhd",
    "vhdx",
    "vmdk",
    "raw",
    "qcow2",
    "vdi",
    "iso",
    "ploop"
   ]
  },
  "created_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of image registration"
  },
  "updated_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of the last image modification"
  },
  "tags": {
   "type": "array",
   "description": "List of strings related to the image",
   "items": {
    "type": "string",
    "maxLength": 255
   }
  },
  "direct_url": {
   "type": "string",
   "readOnly": true,
   "description": "URL to access the image file kept in external store"
  },
  "min_ram": {
   "type": "integer",
   "description": "Amount of ram (in MB) required to boot image."
  },
  "min_disk": {
   "type": "integer",
   "description": "Amount of disk space (in GB) required to boot image."
  },
  "self": {
   "type": "string",
   "readOnly": true,
   "description": "An image self url"
  },
  "file": {
   "type": "string",
   "readOnly": true,
   "description": "An image file url"
  },
  "stores": {
   "type": "string",
   "readOnly": true,
   "description": "Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers."
  },
  "schema": {
   "type": "string",
   "readOnly": true,
   "description": "An image schema url"
  },
  "locations": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "url": {
      "type": "string",
      "maxLength": 255
     },
     "metadata": {
      "type": "object"
     },
     "validation_data": {
      "description": "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
      "type": "object",
      "writeOnly": true,
      "additionalProperties": false,
      "properties": {
       "checksum": {
        "type": "string",
        "minLength": 32,
        "maxLength": 32
       },
       "os_hash_algo": {
        "type": "string",
        "maxLength": 64
       },
       "os_hash_value": {
        "type": "string",
        "maxLength": 128
       }
      },
      "required": [
       "os_hash_algo",
       "os_hash_value"
      ]
     }
    },
    "required": [
     "url",
     "metadata"
    ]
   },
   "description": "A set of URLs to access the image file kept in external store"
  }
 },
 "additionalProperties": {
  "type": "string"
 },
 "links": [
  {
   "rel": "self",
   "href": "{self}"
  },
  {
   "rel": "enclosure",
   "href": "{file}"
  },
  {
   "rel": "describedby",
   "href": "{schema}"
  }
 ]
})json";

constexpr std::string_view kImageCustomProperties = R"json({
 "kernel_id": {
  "type": [
   "null",
   "string"
  ],
  "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
  "description": "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
  "is_base": false
 },
 "ramdisk_id": {
  "type": [
   "null",
   "string"
  ],
  "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
  "description": "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
  "is_base": false
 },
 "instance_uuid": {
  "type": "string",
  "description": "Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)",
  "is_base": false
 },
 "architecture": {
  "description": "Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
  "type": "string",
  "is_base": false
 },
 "os_distro": {
  "description": "Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
  "type": "string",
  "is_base": false
 },
 "os_version": {
  "description": "Operating system version as specified by the distributor.",
  "type": "string",
  "is_base": false
 },
 "description": {
  "description": "A human-readable string describing this image.",
  "type": "string",
  "is_base": false
 },
 "cinder_encryption_key_id": {
  "description": "Identifier in the OpenStack Key Management Service for the encryption key for the Block Storage Service to use when mounting a volume created from this image",
  "type": "string",
  "is_base": false
 },
 "cinder_encryption_key_deletion_policy": {
  "description": "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id' image property.  If this property is missing, the Image Service will take no action",
  "type": "string",
  "enum": [
   "on_image_deletion",
   "do_not_delete"
  ],
  "is_base": false
 }
})json";

constexpr std::string_view kMember = R"json({
 "name": "member",
 "properties": {
  "member_id": {
   "type": "string",
   "description": "An identifier for the image member (tenantId)"
  },
  "image_id": {
   "type": "string",
   "description": "An identifier for the image",
   "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
  },
  "created_at": {
   "type": "string",
   "description": "Date and time of image member creation"
  },
  "updated_at": {
   "type": "string",
   "description": "Date and time of last modification of image member"
  },
  "status": {
   "type": "string",
   "description": "The status of this image member",
   "enum": [
    "pending",
    "accepted",
    "rejected"
   ]
  },
  "schema": {
   "readOnly": true,
   "type": "string"
  }
 }
})json";

constexpr std::string_view kMembers = R"json({
 "name": "members",
 "properties": {
  "members": {
   "type": "array",
   "items": {
    "name": "member",
    "properties": {
     "member_id": {
      "type": "string",
      "description": "An identifier for the image member (tenantId)"
     },
     "image_id": {
      "type": "string",
      "description": "An identifier for the image",
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
     },
     "created_at": {
      "type": "string",
      "description": "Date and time of image member creation"
     },
     "updated_at": {
      "type": "string",
      "description": "Date and time of last modification of image member"
     },
     "status": {
      "type": "string",
      "description": "The status of this image member",
      "enum": [
       "pending",
       "accepted",
       "rejected"
      ]
     },
     "schema": {
      "readOnly": true,
      "type": "string"
     }
    }
   }
  },
  "schema": {
   "type": "string"
  }
 },
 "links": [
  {
   "rel": "describedby",
   "href": "{schema}"
  }
 ]
})json";

constexpr std::string_view kTask = R"json({
 "name": "task",
 "properties": {
  "id": {
   "description": "An identifier for the task",
   "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
   "type": "string"
  },
  "type": {
   "description": "The type of task represented by this content",
   "enum": [
    "import",
    "api_image_import",
    "location_import"
   ],
   "type": "string"
  },
  "status": {
   "description": "The current status of this task",
   "enum": [
    "pending",
    "processing",
    "success",
    "failure"
   ],
   "type": "string"
  },
  "input": {
   "description": "The parameters required by task, JSON blob",
   "type": [
    "null",
    "object"
   ]
  },
  "result": {
   "description": "The result of current task, JSON blob",
   "type": [
    "null",
    "object"
   ]
  },
  "owner": {
   "description": "An identifier for the owner of this task",
   "type": "string"
  },
  "message": {
   "description": "Human-readable informative message only included when appropriate (usually on failure)",
   "type": "string"
  },
  "image_id": {
   "description": "Image associated with the task",
   "type": "string"
  },
  "request_id": {
   "description": "Human-readable informative request-id",
   "type": "string"
  },
  "user_id": {
   "description": "User associated with the task",
   "type": "string"
  },
  "expires_at": {
   "description": "Datetime when this resource would be subject to removal",
   "type": [
    "null",
    "string"
   ]
  },
  "created_at": {
   "description": "Datetime when this resource was created",
   "type": "string"
  },
  "updated_at": {
   "description": "Datetime when this resource was updated",
   "type": "string"
  },
  "self": {
   "readOnly": true,
   "type": "string"
  },
  "schema": {
   "readOnly": true,
   "type": "string"
  }
 }
})json";

constexpr std::string_view kTasks = R"json({
 "name": "tasks",
 "properties": {
  "tasks": {
   "type": "array",
   "items": {
    "name": "task",
    "properties": {
     "id": {
      "description": "An identifier for the task",
      "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
      "type": "string"
     },
     "type": {
      "description": "The type of task represented by this content",
      "enum": [
       "import",
       "api_image_import",
       "location_import"
      ],
      "type": "string"
     },
     "status": {
      "description": "The current status of this task",
      "enum": [
       "pending",
       "processing",
       "success",
       "failure"
      ],
      "type": "string"
     },
     "owner": {
      "description": "An identifier for the owner of this task",
      "type": "string"
     },
     "image_id": {
      "description": "Image associated with the task",
      "type": "string"
     },
     "request_id": {
      "description": "Human-readable informative request-id",
      "type": "string"
     },
     "user_id": {
      "description": "User associated with the task",
      "type": "string"
     },
     "expires_at": {
      "description": "Datetime when this resource would be subject to removal",
      "type": [
       "null",
       "string"
      ]
     },
     "created_at": {
      "description": "Datetime when this resource was created",
      "type": "string"
     },
     "updated_at": {
      "description": "Datetime when this resource was updated",
      "type": "string"
     },
     "self": {
      "readOnly": true,
      "type": "string"
     },
     "schema": {
      "readOnly": true,
      "type": "string"
     }
    }
   }
  },
  "schema": {
   "type": "string"
  }
 },
 "links": [
  {
   "rel": "describedby",
   "href": "{schema}"
  }
 ]
})json";

constexpr std::string_view kMetadefNamespace = R"json({
 "name": "namespace",
 "properties": {
  "namespace": {
   "type": "string",
   "description": "The unique namespace text.",
   "maxLength": 80
  },
  "display_name": {
   "type": "string",
   "description": "The user friendly name for the namespace. Used by UI if available.",
   "maxLength": 80
  },
  "description": {
   "type": "string",
   "description": "Provides a user friendly description of the namespace.",
   "maxLength": 500
  },
  "visibility": {
   "type": "string",
   "description": "Scope of namespace accessibility.",
   "enum": [
    "public",
    "private"
   ]
  },
  "protected": {
   "type": "boolean",
   "description": "If true, namespace will not be deletable."
  },
  "owner": {
   "type": "string",
   "description": "Owner of the namespace.",
   "maxLength": 255
  },
  "created_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of namespace creation",
   "format": "date-time"
  },
  "updated_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of the last namespace modification",
   "format": "date-time"
  },
  "schema": {
   "readOnly": true,
   "type": "string"
  },
  "self": {
   "readOnly": true,
   "type": "string"
  },
  "resource_type_associations": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     },
     "prefix": {
      "type": "string"
     },
     "properties_target": {
      "type": "string"
     }
    }
   }
  },
  "properties": {
   "$ref": "#/definitions/property"
  },
  "objects": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "required": {
      "$ref": "#/definitions/stringArray"
     },
     "properties": {
      "$ref": "#/definitions/property"
     }
    }
   }
  },
  "tags": {
   "type": "array",
   "items": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     }
    }
   }
  }
 },
 "additionalProperties": false,
 "definitions": {
  "positiveInteger": {
   "type": "integer",
   "minimum": 0
  },
  "positiveIntegerDefault0": {
   "allOf": [
    {
     "$ref": "#/definitions/positiveInteger"
    },
    {
     "default": 0
    }
   ]
  },
  "stringArray": {
   "type": "array",
   "items": {
    "type": "string"
   },
   "uniqueItems": true
  },
  "property": {
   "type": "object",
   "additionalProperties": {
    "type": "object",
    "required": [
     "title",
     "type"
    ],
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 80
     },
     "title": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "operators": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "type": {
      "type": "string",
      "enum": [
       "array",
       "boolean",
       "integer",
       "number",
       "object",
       "string",
       null
      ]
     },
     "required": {
      "$ref": "#/definitions/stringArray"
     },
     "minimum": {
      "type": "number"
     },
     "maximum": {
      "type": "number"
     },
     "maxLength": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minLength": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "pattern": {
      "type": "string",
      "format": "regex"
     },
     "enum": {
      "type": "array"
     },
     "readonly": {
      "type": "boolean"
     },
     "default": {},
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "enum": [
         "array",
         "boolean",
         "integer",
         "number",
         "object",
         "string",
         null
        ]
       },
       "enum": {
        "type": "array"
       }
      }
     },
     "maxItems": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minItems": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "uniqueItems": {
      "type": "boolean",
      "default": false
     },
     "additionalItems": {
      "type": "boolean"
     }
    }
   }
  }
 },
 "required": [
  "namespace"
 ]
})json";

constexpr std::string_view kMetadefResourceType = R"json({
 "name": "resource_type_association",
 "properties": {
  "name": {
   "type": "string",
   "description": "Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html",
   "maxLength": 80
  },
  "prefix": {
   "type": "string",
   "description": "Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type. Must include prefix separator (e.g. a colon :).",
   "maxLength": 80
  },
  "properties_target": {
   "type": "string",
   "description": "Some resource types allow more than one key / value pair per instance.  For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.",
   "maxLength": 80
  },
  "created_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of resource type association",
   "format": "date-time"
  },
  "updated_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of the last resource type association modification",
   "format": "date-time"
  }
 },
 "additionalProperties": false,
 "required": [
  "name"
 ]
})json";

constexpr std::string_view kMetadefProperty = R"json({
 "name": "property",
 "properties": {
  "name": {
   "type": "string",
   "maxLength": 80
  },
  "title": {
   "type": "string"
  },
  "description": {
   "type": "string"
  },
  "operators": {
   "type": "array",
   "items": {
    "type": "string"
   }
  },
  "type": {
   "type": "string",
   "enum": [
    "array",
    "boolean",
    "integer",
    "number",
    "object",
    "string",
    null
   ]
  },
  "required": {
   "$ref": "#/definitions/stringArray"
  },
  "minimum": {
   "type": "number"
  },
  "maximum": {
   "type": "number"
  },
  "maxLength": {
   "$ref": "#/definitions/positiveInteger"
  },
  "minLength": {
   "$ref": "#/definitions/positiveIntegerDefault0"
  },
  "pattern": {
   "type": "string",
   "format": "regex"
  },
  "enum": {
   "type": "array"
  },
  "readonly": {
   "type": "boolean"
  },
  "default": {},
  "items": {
   "type": "object",
   "properties": {
    "type": {
     "type": "string",
     "enum": [
      "array",
      "boolean",
      "integer",
      "number",
      "object",
      "string",
      null
     ]
    },
    "enum": {
     "type": "array"
    }
   }
  },
  "maxItems": {
   "$ref": "#/definitions/positiveInteger"
  },
  "minItems": {
   "$ref": "#/definitions/positiveIntegerDefault0"
  },
  "uniqueItems": {
   "type": "boolean",
   "default": false
  },
  "additionalItems": {
   "type": "boolean"
  }
 },
 "additionalProperties": false,
 "definitions": {
  "positiveInteger": {
   "type": "integer",
   "minimum": 0
  },
  "positiveIntegerDefault0": {
   "allOf": [
    {
     "$ref": "#/definitions/positiveInteger"
    },
    {
     "default": 0
    }
   ]
  },
  "stringArray": {
   "type": "array",
   "items": {
    "type": "string"
   },
   "minItems": 1,
   "uniqueItems": true
  }
 },
 "required": [
  "type",
  "title",
  "name"
 ]
})json";

constexpr std::string_view kMetadefProperties = R"json({
 "name": "properties",
 "properties": {
  "properties": {
   "type": "object",
   "additionalProperties": {
    "name": "property",
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 80
     },
     "title": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "operators": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "type": {
      "type": "string",
      "enum": [
       "array",
       "boolean",
       "integer",
       "number",
       "object",
       "string",
       null
      ]
     },
     "required": {
      "$ref": "#/definitions/stringArray"
     },
     "minimum": {
      "type": "number"
     },
     "maximum": {
      "type": "number"
     },
     "maxLength": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minLength": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "pattern": {
      "type": "string",
      "format": "regex"
     },
     "enum": {
      "type": "array"
     },
     "readonly": {
      "type": "boolean"
     },
     "default": {},
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "enum": [
         "array",
         "boolean",
         "integer",
         "number",
         "object",
         "string",
         null
        ]
       },
       "enum": {
        "type": "array"
       }
      }
     },
     "maxItems": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minItems": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "uniqueItems": {
      "type": "boolean",
      "default": false
     },
     "additionalItems": {
      "type": "boolean"
     }
    },
    "additionalProperties": false,
    "required": [
     "type",
     "title"
    ]
   }
  },
  "first": {
   "type": "string"
  },
  "next": {
   "type": "string"
  },
  "schema": {
   "type": "string"
  }
 },
 "links": [
  {
   "rel": "first",
   "href": "{first}"
  },
  {
   "rel": "next",
   "href": "{next}"
  },
  {
   "rel": "describedby",
   "href": "{schema}"
  }
 ],
 "definitions": {
  "positiveInteger": {
   "type": "integer",
   "minimum": 0
  },
  "positiveIntegerDefault0": {
   "allOf": [
    {
     "$ref": "#/definitions/positiveInteger"
    },
    {
     "default": 0
    }
   ]
  },
  "stringArray": {
   "type": "array",
   "items": {
    "type": "string"
   },
   "minItems": 1,
   "uniqueItems": true
  }
 }
})json";

constexpr std::string_view kMetadefObject = R"json({
 "name": "object",
 "properties": {
  "name": {
   "type": "string",
   "maxLength": 80
  },
  "description": {
   "type": "string"
  },
  "required": {
   "$ref": "#/definitions/stringArray"
  },
  "properties": {
   "$ref": "#/definitions/property"
  },
  "schema": {
   "readOnly": true,
   "type": "string"
  },
  "self": {
   "readOnly": true,
   "type": "string"
  },
  "created_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of object creation",
   "format": "date-time"
  },
  "updated_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of the last object modification",
   "format": "date-time"
  }
 },
 "additionalProperties": false,
 "definitions": {
  "positiveInteger": {
   "type": "integer",
   "minimum": 0
  },
  "positiveIntegerDefault0": {
   "allOf": [
    {
     "$ref": "#/definitions/positiveInteger"
    },
    {
     "default": 0
    }
   ]
  },
  "stringArray": {
   "type": "array",
   "items": {
    "type": "string"
   },
   "uniqueItems": true
  },
  "property": {
   "type": "object",
   "additionalProperties": {
    "type": "object",
    "required": [
     "title",
     "type"
    ],
    "properties": {
     "name": {
      "type": "string",
      "maxLength": 80
     },
     "title": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "operators": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "type": {
      "type": "string",
      "enum": [
       "array",
       "boolean",
       "integer",
       "number",
       "object",
       "string",
       null
      ]
     },
     "required": {
      "$ref": "#/definitions/stringArray"
     },
     "minimum": {
      "type": "number"
     },
     "maximum": {
      "type": "number"
     },
     "maxLength": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minLength": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "pattern": {
      "type": "string",
      "format": "regex"
     },
     "enum": {
      "type": "array"
     },
     "readonly": {
      "type": "boolean"
     },
     "default": {},
     "items": {
      "type": "object",
      "properties": {
       "type": {
        "type": "string",
        "enum": [
         "array",
         "boolean",
         "integer",
         "number",
         "object",
         "string",
         null
        ]
       },
       "enum": {
        "type": "array"
       }
      }
     },
     "maxItems": {
      "$ref": "#/definitions/positiveInteger"
     },
     "minItems": {
      "$ref": "#/definitions/positiveIntegerDefault0"
     },
     "uniqueItems": {
      "type": "boolean",
      "default": false
     },
     "additionalItems": {
      "type": "boolean"
     }
    }
   }
  }
 },
 "required": [
  "name"
 ]
})json";

constexpr std::string_view kMetadefTag = R"json({
 "name": "tag",
 "properties": {
  "name": {
   "type": "string",
   "maxLength": 80
  },
  "created_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of tag creation",
   "format": "date-time"
  },
  "updated_at": {
   "type": "string",
   "readOnly": true,
   "description": "Date and time of the last tag modification",
   "format": "date-time"
  }
 },
 "additionalProperties": false,
 "required": [
  "name"
 ]
})json";

Json Parse(std::string_view text) { return Json::parse(text); }

Json FormatEnum(const std::vector<std::string>& formats) {
  Json values = Json::array({nullptr});
  for (const std::string& f : formats) values.push_back(f);
  return values;
}

Json ImageSchemaJson(const SchemaOptions& options) {
  Json doc = Parse(kImageBase);
  Json& props = doc["properties"];
  props["disk_format"]["enum"] = FormatEnum(options.disk_formats);
  props["container_format"]["enum"] = FormatEnum(options.container_formats);
  if (!options.include_locations) props.erase("locations");
  if (!options.include_direct_url) props.erase("direct_url");
  const Json custom = Parse(kImageCustomProperties);
  for (const auto& [name, value] : custom.items()) props[name] = value;
  // Keep "additionalProperties" and "links" after "properties", as Glance orders them.
  Json ordered;
  ordered["name"] = doc["name"];
  ordered["properties"] = std::move(props);
  ordered["additionalProperties"] = doc["additionalProperties"];
  ordered["links"] = doc["links"];
  return ordered;
}

// A paged collection of `item` documents, as Glance builds its list schemas: the items under
// `key`, `first`/`next`/`schema` links, and the item's shared definitions hoisted to the top.
Json PagedCollection(std::string_view name, std::string_view key, Json item) {
  Json doc;
  doc["name"] = name;
  Json definitions;
  if (item.contains("definitions")) {
    definitions = std::move(item["definitions"]);
    item.erase("definitions");
  }
  doc["properties"][std::string(key)] = {{"type", "array"}, {"items", std::move(item)}};
  doc["properties"]["first"] = {{"type", "string"}};
  doc["properties"]["next"] = {{"type", "string"}};
  doc["properties"]["schema"] = {{"type", "string"}};
  doc["links"] = Json::array({{{"rel", "first"}, {"href", "{first}"}},
                              {{"rel", "next"}, {"href", "{next}"}},
                              {{"rel", "describedby"}, {"href", "{schema}"}}});
  if (!definitions.is_null()) doc["definitions"] = std::move(definitions);
  return doc;
}

}  // namespace

std::string ImageSchema(const SchemaOptions& options) { return ImageSchemaJson(options).dump(); }

std::string ImagesSchema(const SchemaOptions& options) {
  return PagedCollection("images", "images", ImageSchemaJson(options)).dump();
}

std::string MemberSchema() { return Parse(kMember).dump(); }
std::string MembersSchema() { return Parse(kMembers).dump(); }
std::string TaskSchema() { return Parse(kTask).dump(); }
std::string TasksSchema() { return Parse(kTasks).dump(); }
std::string MetadefNamespaceSchema() { return Parse(kMetadefNamespace).dump(); }
std::string MetadefNamespacesSchema() {
  return PagedCollection("namespaces", "namespaces", Parse(kMetadefNamespace)).dump();
}
std::string MetadefResourceTypeSchema() { return Parse(kMetadefResourceType).dump(); }
std::string MetadefResourceTypesSchema() {
  return PagedCollection("resource_type_associations", "resource_type_associations",
                         Parse(kMetadefResourceType))
      .dump();
}
std::string MetadefPropertySchema() { return Parse(kMetadefProperty).dump(); }
std::string MetadefPropertiesSchema() { return Parse(kMetadefProperties).dump(); }
std::string MetadefObjectSchema() { return Parse(kMetadefObject).dump(); }
std::string MetadefObjectsSchema() {
  return PagedCollection("objects", "objects", Parse(kMetadefObject)).dump();
}
std::string MetadefTagSchema() { return Parse(kMetadefTag).dump(); }
std::string MetadefTagsSchema() {
  return PagedCollection("tags", "tags", Parse(kMetadefTag)).dump();
}

std::optional<std::string> SchemaByName(std::string_view name, const SchemaOptions& options) {
  if (name == "image") return ImageSchema(options);
  if (name == "images") return ImagesSchema(options);
  if (name == "member") return MemberSchema();
  if (name == "members") return MembersSchema();
  if (name == "task") return TaskSchema();
  if (name == "tasks") return TasksSchema();
  if (name == "metadefs/namespace") return MetadefNamespaceSchema();
  if (name == "metadefs/namespaces") return MetadefNamespacesSchema();
  if (name == "metadefs/resource_type") return MetadefResourceTypeSchema();
  if (name == "metadefs/resource_types") return MetadefResourceTypesSchema();
  if (name == "metadefs/property") return MetadefPropertySchema();
  if (name == "metadefs/properties") return MetadefPropertiesSchema();
  if (name == "metadefs/object") return MetadefObjectSchema();
  if (name == "metadefs/objects") return MetadefObjectsSchema();
  if (name == "metadefs/tag") return MetadefTagSchema();
  if (name == "metadefs/tags") return MetadefTagsSchema();
  return std::nullopt;
}

}  // namespace glimmer::api
