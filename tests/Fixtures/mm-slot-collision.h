/* Two flags on one high-arch slot, the kind of collision the kernel once had (a uffd flag on the
 * slot an architecture's shadow stack uses), in the #define form; written for the tests.
 * With CONFIG_UFFD_MINOR_OWN_BIT the uffd flag has a bit of its own, as the fix did. */
#define VM_NONE		0x00000000
#define VM_READ		0x00000001
#define VM_LOCKED	0x00002000
#define VM_ARCH_1	0x01000000

#ifdef CONFIG_ARCH_USES_HIGH_VMA_FLAGS
#define VM_HIGH_ARCH_BIT_0	32
#define VM_HIGH_ARCH_BIT_5	37
#define VM_HIGH_ARCH_0	BIT(VM_HIGH_ARCH_BIT_0)
#define VM_HIGH_ARCH_5	BIT(VM_HIGH_ARCH_BIT_5)
#endif

#ifdef CONFIG_X86_USER_SHADOW_STACK
#define VM_SHADOW_STACK	VM_HIGH_ARCH_5
#else
#define VM_SHADOW_STACK	VM_NONE
#endif

#ifdef CONFIG_HAVE_ARCH_USERFAULTFD_MINOR
# ifdef CONFIG_UFFD_MINOR_OWN_BIT
#  define VM_UFFD_MINOR_BIT	41
#  define VM_UFFD_MINOR	BIT(VM_UFFD_MINOR_BIT)
# else
#  define VM_UFFD_MINOR	VM_HIGH_ARCH_5
# endif
#else
#define VM_UFFD_MINOR	VM_NONE
#endif

#if defined(CONFIG_X86)
# define VM_PAT		VM_ARCH_1
#endif
#define VM_STACK	VM_READ
