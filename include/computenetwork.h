/* Copyright (c) hcs contributors. Licensed under the MIT licence.
 * computenetwork.h for Linux (hcs): the types of the Host Compute Network (HCN) API, so that programs which
 * include this header (Microsoft's HCS quick start does) compile. hcs does not implement HCN: no Hcn* function is
 * declared or exported; networking is configured in the compute system's JSON document instead. */
#ifndef HCS_LINUX_COMPUTENETWORK_H
#define HCS_LINUX_COMPUTENETWORK_H

#include "windows.h"

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic" /* HcnNotificationFlagsReserved is above INT_MAX */
#endif

typedef enum HCN_NOTIFICATIONS {
    HcnNotificationInvalid = 0x00000000,
    HcnNotificationNetworkPreCreate = 0x00000001,
    HcnNotificationNetworkCreate = 0x00000002,
    HcnNotificationNetworkPreDelete = 0x00000003,
    HcnNotificationNetworkDelete = 0x00000004,
    HcnNotificationNamespaceCreate = 0x00000005,
    HcnNotificationNamespaceDelete = 0x00000006,
    HcnNotificationServiceDisconnect = 0x01000000,
    HcnNotificationFlagsReserved = 0xF0000000
} HCN_NOTIFICATIONS;

#if !defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Opaque handles. */
typedef void* HCN_CALLBACK;
typedef void* HCN_NETWORK;
typedef HCN_NETWORK* PHCN_NETWORK;
typedef void* HCN_NAMESPACE;
typedef HCN_NAMESPACE* PHCN_NAMESPACE;
typedef void* HCN_ENDPOINT;
typedef HCN_ENDPOINT* PHCN_ENDPOINT;
typedef void* HCN_LOADBALANCER;
typedef HCN_LOADBALANCER* PHCN_LOADBALANCER;
typedef void* HCN_SERVICE;
typedef HCN_SERVICE* PHCN_SERVICE;

typedef void(CALLBACK* HCN_NOTIFICATION_CALLBACK)(
    DWORD NotificationType, void* Context, HRESULT NotificationStatus, PCWSTR NotificationData);

HCS_STATIC_ASSERT(sizeof(HCN_NOTIFICATIONS) == 4, "HCN_NOTIFICATIONS is 4 bytes");

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HCS_LINUX_COMPUTENETWORK_H */
