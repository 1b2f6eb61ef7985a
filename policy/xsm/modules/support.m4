# m4 helpers shared by every module (non-MLS policy: a context is user:role:type).
define(`gen_context', `$1')

# The personas' and backends' own event-channel types are derived by Xen from the pair of
# domains (type_transition on class event); a channel type may be bound only where a rule
# below names it.

# domain_common(type, self): what every domain may do to itself (grant table, its own
# memory map, its own parameters such as the xenstore and console event channels).
define(`domain_common', `
	allow $1 $2:grant { query setup };
	allow $1 $2:mmu { adjust physmap map_read map_write stat pinpage updatemp mmuext_op };
	allow $1 $2:hvm { getparam setparam };
	allow $1 $2:domain2 get_vnumainfo;
')

# guest_domain(type): a guest type, its _self type (Xen labels a domain acting on itself
# with it, so two guests of one type still cannot touch each other) and its channel type.
define(`guest_domain', `
	type $1, domain_type, guest_domain_type;
	type $1_self, domain_type, domain_self_type;
	type_transition $1 $1:domain $1_self;
	type $1_channel, event_type;
	type_transition $1 domain_type:event $1_channel;
	domain_common($1, $1_self)
	create_channel($1, $1_self, $1_channel)
	allow $1 $1_self:grant { map_read map_write copy unmap };
')

# singleton_domain(type): the one management domain; acting on itself needs no _self type.
define(`singleton_domain', `
	type $1, domain_type;
	define(`$1_self', `$1')
	type $1_channel, event_type;
	type_transition $1 domain_type:event $1_channel;
	domain_common($1, $1)
')

# create_channel(source, dest, channel): source may create and send on channels it labels
# `channel`, and such a channel may be bound by dest. No `status`: Xen checks
# EVTCHNOP_status against the channel's *owner* (owner -> channel), not the caller, so an
# owner allowed status on its channels would let any domain read their state and peers.
define(`create_channel', `
	allow $1 $3:event { create send };
	allow $3 $2:event bind;
')

# event_comms(a, b): a and b may connect event channels in both directions.
define(`event_comms', `
	create_channel($1, $2, $1_channel)
	create_channel($2, $1, $2_channel)
')

# maps_pages_of(backend, guest): backend may map (and copy) the pages guest grants it.
define(`maps_pages_of', `
	allow $1 $2:grant { map_read map_write copy unmap };
')

# build_domain(toolstack, guest): what libxl needs to create and load a guest on ARM:
# the domain itself, its vCPUs and memory map, its grant table and parameters, and the
# foreign mappings that load the kernel and initramfs.
define(`build_domain', `
	allow $1 $2:domain { create max_vcpus setdomainmaxmem setaddrsize getdomaininfo
		hypercall setvcpucontext getscheduler getvcpuinfo getaddrsize getaffinity
		setaffinity settime setdomainhandle getvcpucontext set_misc_info
		getpagingmempool setpagingmempool };
	allow $1 $2:domain2 { setscheduler setclaim get_vnumainfo set_vnumainfo cacheflush
		resource_map };
	allow $1 $2:security check_context;
	allow $1 $2:mmu { map_read map_write adjust memorymap physmap pinpage mmuext_op updatemp };
	allow $1 $2:grant setup;
	allow $1 $2:hvm { getparam setparam };
	allow $1 $2_channel:event create;
')

# manage_domain(toolstack, guest): running-domain control (list, pause, shut down, destroy).
define(`manage_domain', `
	allow $1 $2:domain { getdomaininfo getvcpuinfo getaffinity getaddrsize pause unpause
		trigger shutdown destroy setaffinity setdomainmaxmem getscheduler resume
		getpagingmempool setpagingmempool };
	allow $1 $2:domain2 set_vnumainfo;
')
