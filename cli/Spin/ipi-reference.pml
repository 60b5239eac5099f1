/*
 * Multikernel.Verified: the Promela twin of ipi/reference under --memory-model sc (model/Ipi:
 * IpiSpec, Designs/RingDesign.cs with no defect, IpiKernel's ghost bookkeeping), for Spin.
 *
 * One process whose loop offers each enabled step of IpiSpec.Enabled() as one d_step, so that a
 * Spin state is exactly an IpiState: the same variables, the same values, one transition per step.
 * Its exhaustive search stores as many states as `explore ipi/reference` counts at the same bounds
 * (cli/Spin/SpinTwin.cs generates the bounds' header, tests/Spin checks the counts). Scratch
 * variables are hidden (outside the state vector).
 *
 * What the twin leaves out, and why the counts stay equal: fields of IpiState that the reference
 * design never changes at these bounds (the hostile peer's Forged, PeerDone and Spoiled; the
 * handlers' irq_work fields, which only the seeds' designs use; the design variables; the senders
 * and receivers beyond the bounds). Constant fields add no states. The properties' recorded
 * violations (IpiState.Broken) are assertions here: Spin stops at a violation, the explorer records it.
 *
 * -DNO_FULL_CHECK is RingDesign.Defect.NoFullCheck (ipi/ref-no-full-check): the claim skips the
 * -ENOSPC check, and Spin's search must end at the no-overwrite assertion (tests/Spin).
 *
 * The bounds header (ipi-bounds.h, written by `multikernel bench --spin` or SpinTwin.Header) defines
 * SENDERS, MESSAGES, RING, HANDLERS, MSGS, MK_MAX_DATA_SIZE, and per message id its size, its type
 * (as a code: the model's 64-bit types numbered in order, 0 is 0) and whether its bytes identify it.
 */
#include "ipi-bounds.h"

#define DONE            255
#define SLOT_FREE       0
#define SLOT_READY      2
#define LINKED          1
#define UNREGISTERED    4
#define AREA_LIVE       0
#define AREA_UNPUBLISHED 1
#define AREA_FREED      2

typedef mk_ipi_data {
	byte state;        /* SLOT_FREE / SLOT_CLAIMED / SLOT_READY */
	byte sender_cpu;   /* sender index + 1; 0 after memset */
	short data_size;
	byte type;         /* the 64-bit type as its code (ipi-bounds.h) */
	byte payload;      /* whose bytes fill buffer[]: a message id, or 0 */
	byte live          /* ghost: the message complete here, not yet taken */
};

typedef sender {
	byte pc;           /* next step of the send path; DONE when all messages are sent */
	byte k;            /* which of its messages (0-based) */
	byte slot;         /* the head value it claimed */
	bit holds_area     /* holds the IPI area pointer (rcu_read_lock() to return) */
};

sender senders[SENDERS];
mk_ipi_data slots[RING];
byte head, tail;              /* free-running ring indices, 8 bits as in the model */
bit ipi_pending;              /* CPU0's APIC has MULTIKERNEL_VECTOR pending */
byte ring_work;               /* the ring's irq_work: 0 idle, 1 queued, 2 running */
byte targets;                 /* handlers still to call for the copy (bit h) */
mk_ipi_data copy;             /* the receiver's private copy */
byte handler_flags[HANDLERS] = LINKED;
byte unregister_pc, destroy_pc, area;
short accepted, rejected;     /* ghost: bit id-1, the send returned 0 / an error */
byte delivered[HANDLERS * MSGS]; /* ghost: deliveries of (handler, id), saturating at 3 */

hidden byte id, sl, h, w;

/* IpiKernel.Return(): the send returns; the CPU moves to its next message. */
inline ret(c, ok) {
	if
	:: ok -> accepted = accepted | (1 << (id - 1))
	:: else -> rejected = rejected | (1 << (id - 1))
	fi;
	senders[c].holds_area = 0;
	senders[c].k = senders[c].k + 1;
	senders[c].pc = (senders[c].k < MESSAGES -> 0 : DONE)
}

/* IpiKernel.BeforeWrite(): no-use-after-free and no-overwrite. */
inline before_write(c) {
	assert(!(area == AREA_FREED && senders[c].holds_area));  /* no-use-after-free */
	assert(slots[sl].live == 0 || slots[sl].live == id);     /* no-overwrite */
}

/* IpiKernel.NoteWhole(): the slot holds the sender's whole message. */
inline note_whole() {
	w = IDENTIFY(slots[sl]);
	if
	:: w == id -> slots[sl].live = id
	:: else -> skip
	fi
}

/* multikernel_send_ipi_data(), sender c's next step (RingDesign's program). */
inline send(c) {
	id = c * MESSAGES + senders[c].k + 1;
	if
	:: senders[c].pc == 0 ->
		/* if (data_size > MK_MAX_DATA_SIZE) return -EINVAL; rcu_read_lock(); ipi = rcu_dereference(...) */
		if
		:: MSG_SIZE(id) > MK_MAX_DATA_SIZE -> ret(c, 0)
		:: else ->
			if
			:: area == AREA_LIVE -> senders[c].holds_area = 1; senders[c].pc = 1
			:: else -> ret(c, 0)                                /* -ENODEV */
			fi
		fi
	:: senders[c].pc == 1 ->
		/* head = READ_ONCE(ring->head); if (head - smp_load_acquire(&ring->tail) >= MK_IPI_RING) return -ENOSPC; cmpxchg */
		if
#ifndef NO_FULL_CHECK
		:: ((head - tail) & 255) >= RING -> ret(c, 0)          /* -ENOSPC */
#endif
		:: else -> senders[c].slot = head; head = (head + 1) & 255; senders[c].pc = 2
		fi
	:: senders[c].pc == 2 ->
		/* slot = &ring->slots[head & (MK_IPI_RING - 1)]; header; memcpy(slot->buffer, data, data_size) */
		sl = senders[c].slot & (RING - 1);
		assert(sl < RING);                                     /* index-bounded */
		before_write(c);
		slots[sl].data_size = MSG_SIZE(id);
		slots[sl].sender_cpu = c + 1;
		slots[sl].type = MSG_TYPE(id);
		note_whole();
		before_write(c);
		if
		:: MSG_SIZE(id) > 0 -> slots[sl].payload = id
		:: else -> skip
		fi;
		note_whole();
		senders[c].pc = 3
	:: senders[c].pc == 3 ->
		/* smp_store_release(&slot->state, MK_SLOT_READY) */
		sl = senders[c].slot & (RING - 1);
		slots[sl].state = SLOT_READY;
		senders[c].pc = 4
	:: else ->
		/* __apic_send_IPI(cpu, MULTIKERNEL_VECTOR); rcu_read_unlock(); return 0 */
		ipi_pending = 1;
		ret(c, 1)
	fi;
	id = 0; sl = 0; w = 0
}

/* handler->callback(&copy, ctx) for the lowest handler left in targets. */
inline dispatch() {
	h = (targets & 1 -> 0 : (targets & 2 -> 1 : 2));
	targets = targets & (targets - 1);
	assert(!(handler_flags[h] & UNREGISTERED));            /* unregister-final */
	id = IDENTIFY(copy);
	assert(id != 0);                                       /* intact */
	assert(HANDLER_TYPE(h) == MSG_TYPE(id));                /* handler-type */
	assert(delivered[h * MSGS + id - 1] == 0);             /* no-duplicate */
	if
	:: delivered[h * MSGS + id - 1] < 3 -> delivered[h * MSGS + id - 1] = delivered[h * MSGS + id - 1] + 1
	:: else -> skip
	fi
}

/* mk_ring_drain(): take the READY slot at tail into the copy, free it, advance tail, pick the handlers. */
inline drain() {
	ring_work = 2;
	sl = tail & (RING - 1);
	assert(sl < RING);                                     /* index-bounded */
	if
	:: slots[sl].state != SLOT_READY ->
		ring_work = 0;
		copy.state = 0; copy.sender_cpu = 0; copy.data_size = 0; copy.type = 0; copy.payload = 0; copy.live = 0
	:: else ->
		copy.state = slots[sl].state; copy.sender_cpu = slots[sl].sender_cpu; copy.data_size = slots[sl].data_size;
		copy.type = slots[sl].type; copy.payload = slots[sl].payload; copy.live = 0;
		assert(IDENTIFY(copy) != 0);                       /* intact */
		slots[sl].live = 0;
		slots[sl].state = SLOT_FREE;
		tail = (tail + 1) & 255;
		if
		:: copy.data_size > MK_MAX_DATA_SIZE ->
			/* dropped: a silent drop of a whole message owed to a linked handler */
			id = IDENTIFY(copy);
			assert(id == 0 || !OWED_TO_LINKED(id))             /* no-silent-drop */
		:: else ->
			/* list_for_each_entry_rcu(h, &mk_handlers) if (h->ipi_type == copy.type) */
			h = 0;
			do
			:: h < HANDLERS ->
				if
				:: (handler_flags[h] & LINKED) && HANDLER_TYPE(h) == copy.type -> targets = targets | (1 << h)
				:: else -> skip
				fi;
				h++
			:: else -> break
			od
		fi
	fi
}

active proctype ipi()
{
end:
	do
	:: d_step { senders[0].pc != DONE -> send(0) }
#if SENDERS > 1
	:: d_step { senders[1].pc != DONE -> send(1) }
#endif
#if SENDERS > 2
	:: d_step { senders[2].pc != DONE -> send(2) }
#endif
	/* multikernel_interrupt_handler(): irq_work_queue(&ring->work); hardirqs do not nest */
	:: d_step { area == AREA_LIVE && ipi_pending && ring_work != 2 ->
		ipi_pending = 0;
		if
		:: ring_work == 0 -> ring_work = 1
		:: else -> skip
		fi }
	/* the ring's irq_work: a handler call, or the next drain */
	:: d_step { area == AREA_LIVE && ring_work != 0 ->
		if
		:: targets != 0 -> dispatch()
		:: else -> drain()
		fi;
		id = 0; sl = 0; h = 0 }
	/* multikernel_unregister_handler(handler0): list_del_rcu; then irq_work_sync(); kfree(); return */
	:: d_step { (SENDING || unregister_pc > 0) &&
	            (unregister_pc == 0 || (unregister_pc == 1 && (ring_work == 0 || area != AREA_LIVE))) ->
		if
		:: unregister_pc == 0 -> handler_flags[0] = handler_flags[0] & 254
		:: else -> handler_flags[0] = handler_flags[0] | UNREGISTERED
		fi;
		unregister_pc++ }
	/* destroy: rcu_assign_pointer(mk_instance_ipi_map[id], NULL); then synchronize_rcu(); free */
	:: d_step { (SENDING || destroy_pc > 0) && (destroy_pc == 0 || (destroy_pc == 1 && !HOLDING)) ->
		area = (destroy_pc == 0 -> AREA_UNPUBLISHED : AREA_FREED);
		destroy_pc++ }
	od
}
