// The objects of consul-template's Connect and cluster-topology functions, with their Go types
// and field sets, and the converters from Consul's response bodies to them:
//
//   caRoots            []*api.CARoot        {ID, Name, RootCertPEM, Active, CreateIndex,
//                                            ModifyIndex}        (json name of RootCertPEM:
//                                                                 RootCert)
//   caLeaf "svc"       *api.LeafCert        {SerialNumber, CertPEM, PrivateKeyPEM, Service,
//                                            ServiceURI, ValidAfter, ValidBefore, CreateIndex,
//                                            ModifyIndex}        (PrivateKeyPEM is tainted)
//   partitions         []*dependency.Partition {Name, Description}       sorted by Name
//   peerings           []*dependency.Peering {ID, Name, Partition, Meta, PeeringState, PeerID,
//                                            PeerServerName, PeerServerAddresses,
//                                            StreamStatus, Remote}
//                                            sorted by PeeringState, Partition, Name
//     StreamStatus     dependency.PeeringStreamStatus {ImportedServices, ExportedServices,
//                                            LastHeartbeat, LastReceive, LastSend *time.Time}
//     Remote           dependency.PeeringRemoteInfo {Partition, Datacenter}
//   exportedServices   []dependency.ExportedService {Service, Partition, Namespace,
//                                            Consumers {Peers, Partitions}} sorted by Service;
//                                            Partition and Namespace stay "" and the consumer
//                                            lists are never nil, as consul-template copies them
//   importedServices   []dependency.ImportedService {Service, Namespace, SourcePartition}
//
// time.Time values print as Go's Time.String ("2026-12-04 21:00:00 +0000 UTC"; an offset other
// than UTC as "+0200 +0200", Go's zone without a name, assuming the machine's zone is UTC) and
// encode to JSON as RFC 3339; they have no methods.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet::dtypes {

const Type* ca_root_list();
const Type* leaf_cert();
const Type* partition_list();
const Type* peering_list();
const Type* exported_service_list();
const Type* imported_service_list();
const Type* go_time();

// GET /v1/agent/connect/ca/roots: the Roots of the IndexedCARoots body.
Value ca_roots(const nlohmann::json& body);
// GET /v1/agent/connect/ca/leaf/<service>. Throws FetchError on a time that is not RFC 3339.
Value leaf_cert_value(const nlohmann::json& body);
Value partitions(const nlohmann::json& body);
Value peerings(const nlohmann::json& body);
Value exported_services(const nlohmann::json& body);
// CE answers a list, Enterprise {Partition, ImportedServices}, as consul/api reads either.
Value imported_services(const nlohmann::json& body);

// Go's Time.String of an RFC 3339 time as encoding/json reads it; false if it is not one.
bool go_time_string(std::string_view rfc3339, std::string& out);

}  // namespace templet::dtypes
