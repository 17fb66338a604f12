#!/usr/bin/env python3
"""Azure Instance Metadata Service emulator: a managed identity token and the instance's compute
metadata for templet's azure login. Behaviour follows Microsoft's "Azure Instance Metadata
Service" and "How to use managed identities for Azure resources on an Azure VM to acquire an
access token" pages (the client side is hashicorp/vault
command/agentproxyshared/auth/azure/azure.go):

    GET /metadata/identity/oauth2/token?api-version=V&resource=R[&client_id=C]
        -> {"access_token": JWT (jwt_keys.py's issuer key; aud R, xms_mirid naming the VM),
            "expires_in", "expires_on", "resource", "token_type": "Bearer", ...}
    GET /metadata/instance?api-version=V -> {"compute": {subscriptionId, resourceGroupName,
            name, vmScaleSetName, ...}, "network": {...}}
    Every request needs `Metadata: true` and api-version (else 400, IMDS's JSON error).

Seed: {"subscription_id", "resource_group", "vm_name", "vmss_name", "client_id", "jwt_ttl_s"}.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jwt_keys  # noqa: E402
from common import Emulator, json_response, run_main  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class AzureMetadataEmulator(Emulator):
    name = "azure_metadata"

    def reset_state(self):
        self.subscription_id = "3a1e5c0f-0000-4b6e-9d3a-templet00001"
        self.resource_group = "data-qa"
        self.vm_name = "redash-1"
        self.vmss_name = ""
        self.client_id = "5e3c9a11-7f2b-4c1d-8e4a-templet00002"
        self.jwt_ttl = 86399

    def seed(self, data):
        for k in ("subscription_id", "resource_group", "vm_name", "vmss_name", "client_id"):
            if k in data:
                setattr(self, k, data[k])
        self.jwt_ttl = int(data.get("jwt_ttl_s", self.jwt_ttl))
        return None

    def _mirid(self):
        return ("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.Compute/"
                "virtualMachines/%s" % (self.subscription_id, self.resource_group, self.vm_name))

    def handle(self, req):
        if req.header("Metadata") != "true":
            return json_response(400, {"error": "Bad request. Required metadata header not "
                                                "specified"})
        if not req.arg("api-version"):
            return json_response(400, {"error": "Bad request. api-version was not specified in "
                                                "the request. For more information refer to "
                                                "aka.ms/azureimds"})
        with self.lock:
            now = int(self.now())
            if req.path == "/metadata/identity/oauth2/token":
                resource = req.arg("resource", "")
                if not resource:
                    return json_response(400, {"error": "invalid_request",
                                               "error_description": "Required query variable "
                                                                    "'resource' is missing"})
                if req.arg("client_id") not in (None, self.client_id):
                    return json_response(400, {"error": "invalid_request",
                                               "error_description": "Identity not found"})
                claims = {"aud": resource, "iss": "https://sts.windows.net/%s/" % TENANT,
                          "iat": now, "nbf": now, "exp": now + self.jwt_ttl,
                          "appid": self.client_id, "oid": "9f1c0d2e-templet-oid",
                          "sub": "9f1c0d2e-templet-oid", "tid": TENANT,
                          "xms_mirid": self._mirid()}
                token = jwt_keys.sign(claims)
                self.secrets.record("jwt", token)
                return json_response(200, {
                    "access_token": token, "client_id": self.client_id,
                    "expires_in": str(self.jwt_ttl), "expires_on": str(now + self.jwt_ttl),
                    "ext_expires_in": str(self.jwt_ttl), "not_before": str(now),
                    "resource": resource, "token_type": "Bearer"})
            if req.path == "/metadata/instance":
                return json_response(200, {"compute": {
                    "azEnvironment": "AzurePublicCloud", "location": "westeurope",
                    "name": self.vm_name, "resourceGroupName": self.resource_group,
                    "subscriptionId": self.subscription_id, "vmScaleSetName": self.vmss_name,
                    "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6"},
                    "network": {"interface": []}})
        return json_response(404, {"error": "Not found"})


if __name__ == "__main__":
    sys.exit(run_main(AzureMetadataEmulator))
