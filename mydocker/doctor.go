//chapter:final

package main

import (
	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/doctor"
)

// doctorOptions holds the flags of `mydocker doctor`.
type doctorOptions struct {
	image string // the busybox root filesystem to look for
}

const doctorLong = `Check that this machine can run every chapter of mydocker: root, the
kernel, each namespace type, cgroups and their controllers, overlayfs
(with a test mount next to the --root directory), iptables and IP
forwarding, the busybox image, and AppArmor and SELinux.

Each check prints ok, warn or FAIL, and a fix for each warn and FAIL;
docs/troubleshooting.md explains every one.

Exit status: 0 when every needed check passed (warnings are allowed),
1 when a needed check failed, 125 when doctor itself could not run
(for example, a bad flag).`

const doctorExample = `  # as root, from the repository root (or: sudo make doctor)
  mydocker doctor

  # check an image built elsewhere, and a state directory on another disk
  mydocker --root /srv/mydocker doctor --image /tmp/rootfs`

func newDoctorCommand(global *globalOptions) *cobra.Command {
	opts := &doctorOptions{}
	cmd := &cobra.Command{
		Use:     "doctor [--image ROOTFS]",
		Short:   "Check that this machine can run every chapter",
		Long:    doctorLong,
		Example: doctorExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd, global, opts)
		},
	}
	cmd.Flags().StringVar(&opts.image, "image", doctor.DefaultImage,
		"the busybox root filesystem that the chapters run containers in")
	return cmd
}

// runDoctor prints the table of checks. A failed check is not an error
// of mydocker's own (125): doctor ran fine and found the host lacking, so
// it ends with 1, like a failed test.
func runDoctor(cmd *cobra.Command, global *globalOptions, opts *doctorOptions) error {
	results := doctor.Run(doctor.Config{RootDir: global.root, ImageDir: opts.image})
	if err := doctor.Print(cmd.OutOrStdout(), results); err != nil {
		return err
	}
	if doctor.Failed(results) {
		return exitCode(1)
	}
	return nil
}
